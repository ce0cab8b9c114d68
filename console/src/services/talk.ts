// 喊话: push-to-talk from the browser's microphone to one camera's speaker, and broadcasts of a canned prompt
// (routes of backend/live/routes.py; delivery through the camera's ONVIF audio back-channel, audited there).
import { get, post, postForm, type Schemas } from '../api/client'

export type TalkResult = Schemas['TalkOut']
export type TalkPrompt = Schemas['TalkPromptOut']

// What MediaRecorder can write that the API takes (judged by content there): Chrome WebM, Firefox Ogg.
const MIME_TYPES = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm', 'audio/ogg']

/** The first recording type this browser supports ('' lets the browser choose). */
export function recordingType(isSupported: (type: string) => boolean = (t) => MediaRecorder.isTypeSupported(t)): string {
  return MIME_TYPES.find((type) => isSupported(type)) ?? ''
}

/** A recording in progress: `stop()` ends it and gives the recorded audio (the microphone is released). */
export interface Recording { stop(): Promise<Blob> }

/** Start recording the microphone (asks for permission the first time). */
export async function startRecording(media: MediaDevices = navigator.mediaDevices): Promise<Recording> {
  const stream = await media.getUserMedia({ audio: true })
  const type = recordingType()
  const recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined)
  const chunks: Blob[] = []
  recorder.addEventListener('dataavailable', (event: BlobEvent) => { if (event.data.size) chunks.push(event.data) })
  recorder.start()
  return {
    stop: () => new Promise<Blob>((resolve) => {
      recorder.addEventListener('stop', () => {
        stream.getTracks().forEach((track) => track.stop())
        resolve(new Blob(chunks, { type: recorder.mimeType || type || 'audio/webm' }))
      }, { once: true })
      recorder.stop()
    }),
  }
}

/** Play a recording on a camera's speaker. */
export function sendTalk(cameraId: number, audio: Blob): Promise<TalkResult> {
  const form = new FormData()
  form.append('file', audio, audio.type.includes('ogg') ? 'talk.ogg' : 'talk.webm')
  return postForm('/live/cameras/{camera_id}/talk', { params: { camera_id: cameraId }, form })
}

/** The canned prompts, one per violation kind. */
export async function loadPrompts(): Promise<TalkPrompt[]> {
  return (await get('/live/talk-prompts')).prompts ?? []
}

/** Speak a canned prompt on every camera of a canteen. */
export function broadcastToCanteen(canteenId: number, kind: string): Promise<TalkResult> {
  return post('/live/broadcasts', { body: { kind, canteen_id: canteenId } })
}

/** One line about a talk's outcome, for a message. */
export function describeResult(result: TalkResult): string {
  const refused = (result.results ?? []).filter((r) => r.status !== 'delivered')
  if (!refused.length) return `喊话已送达 ${result.delivered ?? 0} 个摄像头`
  return `已送达 ${result.delivered ?? 0} 个，未送达 ${refused.length} 个：${refused.map((r) => `${r.camera_name}（${r.message}）`).join('；')}`
}
