/**
 * PDFs on the phone: a delivery's inspection report or invoice as the supplier sent it, a licence's scan. WeChat
 * shows a local file with wx.openDocument; a stored one is downloaded from its signed URL first. A manager picks a
 * PDF from a WeChat chat (wx.chooseMessageFile), where suppliers send them.
 */
const PDF = 'application/pdf';

/** Whether a stored file (as the API answers it) is a PDF. */
function isPdf(file) {
  return !!file && file.content_type === PDF;
}

function openFile(filePath) {
  return new Promise((resolve, reject) => {
    wx.openDocument({ filePath, fileType: 'pdf', showMenu: true, success: resolve, fail: reject });
  });
}

function failed() {
  wx.showToast({ title: '文件打开失败，请稍后重试', icon: 'none' });
}

/** Show a PDF the phone holds (one just chosen). */
function openLocal(filePath) {
  return openFile(filePath).catch(failed);
}

/** Show a stored PDF: download it from its signed URL, then open it. */
function openStored(url) {
  wx.showLoading({ title: '正在打开', mask: true });
  return new Promise((resolve, reject) => {
    wx.downloadFile({
      url,
      success: (res) => (res.statusCode === 200 ? resolve(res.tempFilePath) : reject(res)),
      fail: reject,
    });
  }).then((filePath) => {
    wx.hideLoading();
    return openFile(filePath);
  }, (err) => {
    wx.hideLoading();
    throw err;
  }).catch(failed);
}

/** Choose up to `count` PDFs from a WeChat chat: resolves [{path, name, size}], [] when the person cancels. */
function choosePdfs(count) {
  return new Promise((resolve) => {
    wx.chooseMessageFile({
      count, type: 'file', extension: ['pdf'],
      success: (res) => resolve(res.tempFiles.map((file) => ({ path: file.path, name: file.name, size: file.size }))),
      fail: () => resolve([]),
    });
  });
}

module.exports = { isPdf, openLocal, openStored, choosePdfs };
