import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import BoxEditor from '../../src/components/BoxEditor.vue'
import { boxLabelOf, dragBox, type ReviewBox } from '../../src/services/alarms'

describe('corrected boxes', () => {
  it('turns a drag in any direction into a clipped box in fractions, and ignores a click', () => {
    expect(dragBox('no_mask', 0.6, 0.7, 0.2, 0.1)).toEqual({ label: 'no_mask', x1: 0.2, y1: 0.1, x2: 0.6, y2: 0.7 })
    expect(dragBox('smoking', -0.2, 0.5, 0.3, 1.4)).toEqual({ label: 'smoking', x1: 0, y1: 0.5, x2: 0.3, y2: 1 })
    expect(dragBox('person', 0.5, 0.5, 0.505, 0.8)).toBeNull()
    expect([boxLabelOf('person_after_hours'), boxLabelOf('no_hat'), boxLabelOf('camera_offline')])
      .toEqual(['person', 'no_hat', 'person'])
  })

  it('draws a box by dragging on the picture and removes it with ×', async () => {
    const editor = mount(BoxEditor, { props: { src: 'blob:x', modelValue: [] as ReviewBox[], label: 'no_mask' },
      global: { plugins: [ElementPlus] } })
    const area = editor.get('[data-test=box-area]')
    ;(area.element as HTMLElement).getBoundingClientRect = () =>
      ({ left: 100, top: 50, width: 400, height: 200, right: 500, bottom: 250, x: 100, y: 50 }) as DOMRect
    await area.trigger('mousedown', { clientX: 140, clientY: 70 })
    await area.trigger('mousemove', { clientX: 300, clientY: 150 })
    await area.trigger('mouseup', { clientX: 340, clientY: 170 })
    const [[boxes]] = editor.emitted('update:modelValue') as [ReviewBox[]][]
    expect(boxes).toEqual([{ label: 'no_mask', x1: 0.1, y1: 0.1, x2: 0.6, y2: 0.6 }])
    await editor.setProps({ modelValue: boxes })
    expect(editor.findAll('[data-test=box]')).toHaveLength(1)
    await editor.get('[data-test=remove-box]').trigger('click')
    expect((editor.emitted('update:modelValue') as [ReviewBox[]][])[1][0]).toEqual([])
  })
})
