import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import FileLinks from '../../src/components/FileLinks.vue'
import FileViewer from '../../src/components/FileViewer.vue'

/** A record file as the ledger's schema (FileOut) describes it. */
function stored(id: number, type: string) {
  return { upload_id: id, content_type: type, url: `/f/${id}`, size: 1, sha256: 'ab', width: null, height: null,
    pages: null, url_expires_at: '2026-12-06T12:00:00+08:00' }
}

const dialog = { ElDialog: { template: '<div class="dialog"><slot /></div>' } }

describe('FileLinks', () => {
  it('lists a record files and opens the one clicked', async () => {
    const links = mount(FileLinks, { props: { files: {
      photo: [stored(4, 'image/jpeg')],
      scan: [stored(5, 'application/pdf')],
    } } })
    const items = links.findAll('[data-test=file]')
    expect(items.map((i) => i.text())).toEqual(['照片', '扫描件（PDF）'])
    await items[1].trigger('click')
    expect(links.emitted('open')?.[0][0]).toMatchObject({ upload_id: 5, pdf: true })
    expect(mount(FileLinks, { props: { files: {} } }).text()).toBe('—')
  })
})

describe('FileViewer', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('shows a photo from its signed URL', () => {
    const viewer = mount(FileViewer, { props: { file: { label: '照片', url: '/f/4', pdf: false, upload_id: 4 } },
      global: { stubs: dialog } })
    expect(viewer.get('[data-test=viewer-image]').attributes('src')).toBe('/f/4')
  })

  it('fetches a PDF (sent as a download) and shows it from a blob URL', async () => {
    const fetched: string[] = []
    vi.stubGlobal('fetch', async (url: string) => { fetched.push(url); return new Response('%PDF-1.4', { status: 200 }) })
    const created: Blob[] = []
    URL.createObjectURL = (blob: Blob) => { created.push(blob); return 'blob:pdf-1' }
    URL.revokeObjectURL = () => undefined
    const viewer = mount(FileViewer, { props: { file: null }, global: { stubs: dialog } })
    await viewer.setProps({ file: { label: '扫描件', url: '/f/5', pdf: true, upload_id: 5 } })
    await flushPromises()
    expect(fetched).toEqual(['/f/5'])
    expect(created[0].type).toBe('application/pdf')
    expect(viewer.get('[data-test=viewer-pdf]').attributes('src')).toBe('blob:pdf-1')
  })
})
