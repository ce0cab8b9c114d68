import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import { ApiError, configureClient } from '../../src/api/client'
import PhotoUploader from '../../src/components/PhotoUploader.vue'
import { MAX_PHOTOS, uploadError, usePhotoUploads, type Photo } from '../../src/services/photos'
import { submitRectification, uploadViolationPhoto } from '../../src/services/violations'

function file(name: string): File {
  return new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], name, { type: 'image/png' })
}

/** An upload that answers a key and URL named after the file, counting its calls. */
function fakeUpload(): { upload: (f: File) => Promise<Photo>, calls: string[] } {
  const calls: string[] = []
  return {
    calls,
    upload: async (f: File) => {
      calls.push(f.name)
      return { key: `violation-photos/1/2/${f.name}`, url: `https://files/${f.name}?sig=1`, size: 4 }
    },
  }
}

describe('rectification photos (services/photos.ts)', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('uploads each chosen file at once and sends the keys in the order chosen, leaving out a removed one', async () => {
    const { upload, calls } = fakeUpload()
    const photos = usePhotoUploads(upload)
    expect(await photos.add(file('a.png'))).toBe(true)
    expect(await photos.add(file('b.jpg'))).toBe(true)
    expect(await photos.add(file('c.png'))).toBe(true)
    expect(calls).toEqual(['a.png', 'b.jpg', 'c.png'])
    photos.remove(1)
    expect(photos.keys()).toEqual(['violation-photos/1/2/a.png', 'violation-photos/1/2/c.png'])
    photos.reset()
    expect(photos.keys()).toEqual([])
  })

  it('refuses a photo beyond the limit without calling the API', async () => {
    const { upload, calls } = fakeUpload()
    const photos = usePhotoUploads(upload, 2)
    await photos.add(file('a.png'))
    await photos.add(file('b.png'))
    expect(photos.full).toBe(true)
    expect(await photos.add(file('c.png'))).toBe(false)
    expect(calls).toHaveLength(2)
    expect(photos.error).toBe('最多上传2张照片')
    expect(MAX_PHOTOS).toBe(9)
  })

  it('keeps the server\'s refusal of a file as the field\'s error, and clears it on the next upload', async () => {
    let refuse = true
    const photos = usePhotoUploads(async (f) => {
      if (refuse) throw new ApiError(415, 'unsupported_file_type', '仅支持 JPEG、PNG、WebP 格式的图片', {})
      return { key: f.name, url: f.name, size: 1 }
    })
    expect(await photos.add(file('evil.png'))).toBe(false)
    expect(photos.error).toBe('仅支持 JPEG、PNG、WebP 格式的图片')
    expect(photos.photos).toHaveLength(0)
    expect(photos.uploading).toBe(false)
    refuse = false
    expect(await photos.add(file('ok.png'))).toBe(true)
    expect(photos.error).toBe('')
  })

  it('tells a refusal by its field error, its message, or nothing for a lost session', () => {
    expect(uploadError(new ApiError(422, 'validation_error', '参数错误', { fields: { file: ['缺少文件'] } }))).toBe('缺少文件')
    expect(uploadError(new ApiError(413, 'file_too_large', '文件不能超过 10 MB'))).toBe('文件不能超过 10 MB')
    expect(uploadError(new ApiError(401, 'unauthorized', '请先登录'))).toBe('')
    expect(uploadError(new Error('请先选择食堂'))).toBe('请先选择食堂')
  })

  it('uploads to the violation\'s school as a form, and submits the keys with the measures', async () => {
    const calls: [string, RequestInit][] = []
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      calls.push([url, init])
      const body = url.endsWith('/violation-photos') ? { key: 'violation-photos/3/7/x.png', url: 'https://x', size: 9 } : { id: 5 }
      return new Response(JSON.stringify(body), { status: 201, headers: { 'Content-Type': 'application/json' } })
    })
    configureClient({ token: () => 'tok', onUnauthorized: () => undefined })
    const photo = await uploadViolationPhoto(3, file('x.png'), 'x.png')
    await submitRectification(5, '已清理积水', [photo.key as string])
    expect(calls[0][0]).toMatch(/\/api\/v1\/schools\/3\/violation-photos$/)
    expect(((calls[0][1].body as FormData).get('file') as File).name).toBe('x.png')
    expect(calls[1][0]).toMatch(/\/api\/v1\/violations\/5\/rectifications$/)
    expect(JSON.parse(calls[1][1].body as string)).toEqual({ measures: '已清理积水', photos: ['violation-photos/3/7/x.png'] })
  })
})

describe('PhotoUploader', () => {
  it('uploads every chosen file, shows each as a thumbnail that opens full size, and removes one on ×', async () => {
    const { upload, calls } = fakeUpload()
    const photos = usePhotoUploads(upload)
    const wrapper = mount(PhotoUploader, { props: { uploads: photos, testId: 'rect' }, attachTo: document.body })
    const input = wrapper.get('[data-test=rect-input]')
    Object.defineProperty(input.element, 'files', { value: [file('a.png'), file('b.png')], configurable: true })
    await input.trigger('change')
    await flushPromises()
    expect(calls).toEqual(['a.png', 'b.png'])
    const thumbs = wrapper.findAllComponents({ name: 'ElImage' })
    expect(thumbs.map((t) => t.props('src'))).toEqual(['https://files/a.png?sig=1', 'https://files/b.png?sig=1'])
    expect(thumbs[1].props('previewSrcList')).toEqual(['https://files/a.png?sig=1', 'https://files/b.png?sig=1'])
    expect(thumbs[1].props('initialIndex')).toBe(1)
    await wrapper.findAll('[data-test=rect-remove]')[0].trigger('click')
    expect(photos.keys()).toEqual(['violation-photos/1/2/b.png'])
    wrapper.unmount()
  })

  it('stops at the first refused file and disables the picker when full', async () => {
    const photos = usePhotoUploads(async (f) => {
      if (f.name === 'bad.png') throw new ApiError(422, 'file_corrupt', '文件已损坏或不完整，请重新拍摄或选择文件')
      return { key: f.name, url: f.name, size: 1 }
    }, 1)
    const wrapper = mount(PhotoUploader, { props: { uploads: photos, testId: 'rect' } })
    const input = wrapper.get('[data-test=rect-input]')
    Object.defineProperty(input.element, 'files', { value: [file('bad.png'), file('ok.png')], configurable: true })
    await input.trigger('change')
    await flushPromises()
    expect(photos.photos).toHaveLength(0)
    expect(photos.error).toBe('文件已损坏或不完整，请重新拍摄或选择文件')
    Object.defineProperty(input.element, 'files', { value: [file('ok.png')], configurable: true })
    await input.trigger('change')
    await flushPromises()
    expect((input.element as HTMLInputElement).disabled).toBe(true)
  })
})
