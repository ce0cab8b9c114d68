import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { configureClient } from '../../src/api/client'
import { describeResult, recordingType } from '../../src/services/talk'
import TalkButton from '../../src/components/TalkButton.vue'
import VideoWall from '../../src/components/VideoWall.vue'

/** A MediaRecorder that "records" one chunk and reports it on stop, as browsers do. */
class FakeRecorder extends EventTarget {
  static isTypeSupported(type: string): boolean { return type === 'audio/ogg;codecs=opus' }
  mimeType: string
  state = 'inactive'
  constructor(public stream: unknown, options?: { mimeType?: string }) {
    super()
    this.mimeType = options?.mimeType ?? ''
  }
  start(): void { this.state = 'recording' }
  stop(): void {
    this.state = 'inactive'
    const data = new Blob(['OggS-voice'], { type: this.mimeType })
    this.dispatchEvent(Object.assign(new Event('dataavailable'), { data }))
    this.dispatchEvent(new Event('stop'))
  }
}

describe('push-to-talk', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('records while the button is held and posts the recording to the camera as a form', async () => {
    const stopped: string[] = []
    const calls: [string, RequestInit][] = []
    vi.stubGlobal('MediaRecorder', FakeRecorder)
    vi.stubGlobal('navigator', { mediaDevices: { getUserMedia: async () => ({
      getTracks: () => [{ stop: () => stopped.push('mic') }] }) } })
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      calls.push([url, init])
      return new Response(JSON.stringify({ id: 1, kind: 'talk', delivered: 1, refused: 0, results: [
        { camera_id: 5, camera_name: '热菜区摄像头', status: 'delivered', reason: null, message: null }] }),
      { status: 201, headers: { 'Content-Type': 'application/json' } })
    })
    let now = 1000
    vi.spyOn(performance, 'now').mockImplementation(() => now)
    configureClient({ token: () => 'tok', onUnauthorized: () => undefined })
    const wrapper = mount(TalkButton, { props: { cameraId: 5 } })
    const button = wrapper.get('[data-test="talk-button"]')
    await button.trigger('pointerdown')
    await flushPromises()
    expect(button.attributes('data-state')).toBe('recording')
    expect(button.text()).toBe('松开发送')
    now += 1500
    await button.trigger('pointerup')
    await flushPromises()
    expect(calls).toHaveLength(1)
    expect(calls[0][0]).toBe('/api/v1/live/cameras/5/talk')
    expect(calls[0][1].method).toBe('POST')
    const headers = calls[0][1].headers as Record<string, string>
    expect(headers.Authorization).toBe('Bearer tok')
    expect(headers['Content-Type']).toBeUndefined() // the browser writes the multipart boundary
    const file = (calls[0][1].body as FormData).get('file') as File
    expect(file.name).toBe('talk.ogg')
    expect(file.type).toBe('audio/ogg;codecs=opus')
    expect(file.size).toBe('OggS-voice'.length) // the recorded chunk (jsdom's Blob has no text())
    expect(stopped).toEqual(['mic'])
    expect(wrapper.get('[data-test="talk-status"]').text()).toBe('喊话已送达 1 个摄像头')
    expect(button.attributes('data-state')).toBe('idle')
  })

  it('sends nothing for a click, and shows the API refusal of a camera without a back-channel', async () => {
    const calls: string[] = []
    vi.stubGlobal('MediaRecorder', FakeRecorder)
    vi.stubGlobal('navigator', { mediaDevices: { getUserMedia: async () => ({ getTracks: () => [] }) } })
    vi.stubGlobal('fetch', async (url: string) => {
      calls.push(url)
      return new Response(JSON.stringify({ error: { code: 'backchannel_unsupported',
        message: '该摄像头不支持语音对讲（ONVIF 音频回传）', details: {} } }), { status: 409 })
    })
    let now = 0
    vi.spyOn(performance, 'now').mockImplementation(() => now)
    const wrapper = mount(TalkButton, { props: { cameraId: 9 } })
    const button = wrapper.get('[data-test="talk-button"]')
    await button.trigger('pointerdown')
    await flushPromises()
    now += 100
    await button.trigger('pointerup')
    await flushPromises()
    expect(calls).toEqual([])
    expect(wrapper.get('[data-test="talk-status"]').text()).toBe('请按住按钮说话')
    await button.trigger('pointerdown')
    await flushPromises()
    now += 2000
    await button.trigger('pointerleave')
    await flushPromises()
    expect(calls).toEqual(['/api/v1/live/cameras/9/talk'])
    expect(wrapper.get('[data-test="talk-status"]').text()).toBe('该摄像头不支持语音对讲（ONVIF 音频回传）')
  })

  it('picks a recording type the API takes and describes a broadcast per camera', () => {
    expect(recordingType((t) => t === 'audio/ogg;codecs=opus')).toBe('audio/ogg;codecs=opus')
    expect(recordingType(() => false)).toBe('')
    expect(describeResult({ delivered: 1, results: [
      { camera_id: 1, camera_name: '一号', status: 'delivered' },
      { camera_id: 2, camera_name: '二号', status: 'refused', reason: 'camera_unreachable', message: '无法连接摄像头' }] }))
      .toBe('已送达 1 个，未送达 1 个：二号（无法连接摄像头）')
  })

  it('puts the button on the patrol wall tiles only (not on the big screen)', () => {
    const cameras = [{ id: 3, name: '热菜区', place: '甲校 · 热菜区', live: false, canteenId: 1 }]
    expect(mount(VideoWall, { props: { cameras, size: 1, talk: true } }).findAll('[data-test="talk-button"]')).toHaveLength(1)
    expect(mount(VideoWall, { props: { cameras, size: 1 } }).findAll('[data-test="talk-button"]')).toHaveLength(0)
  })
})
