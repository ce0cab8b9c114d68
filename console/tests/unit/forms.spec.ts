// Every form shows the server's field errors next to the field: each input of an <el-form> sits in an
// <el-form-item> bound to an error (`:error="…fields.name"`). Read from the pages' templates, so a field added
// without its error binding fails here.
import { describe, expect, it } from 'vitest'

// Every component's source, as text (Vite reads them at build time of the test).
const SOURCES = import.meta.glob('../../src/**/*.vue', { query: '?raw', import: 'default', eager: true }) as Record<string, string>
// Quoted attribute values may hold '>' (arrow functions), so a tag is read quote by quote.
const TAG = /<(\/?)([\w-]+)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/g

/** The inputs (elements with v-model) inside an <el-form> that no error-bound <el-form-item> wraps. A field group
 * (a component of form items, such as RobotFields) given the form's `:errors` binds its own fields; its template,
 * form items without a form, is read as the form it is placed in. */
export function unboundInputs(template: string): string[] {
  const stack: { name: string, attrs: string }[] = []
  const found: string[] = []
  const fieldGroup = !/<el-form[\s>]/.test(template) && /<el-form-item[\s>]/.test(template)
  if (fieldGroup) template = `<el-form>${template}</el-form>`
  for (const match of template.matchAll(TAG)) {
    const [, closing, name, attrs, selfClosing] = match
    if (closing) {
      const index = stack.map((t) => t.name).lastIndexOf(name)
      if (index >= 0) stack.splice(index)
      continue
    }
    if (/\bv-model\b/.test(attrs) && !/\s:errors=/.test(attrs) && stack.some((t) => t.name === 'el-form')) {
      const item = [...stack].reverse().find((t) => t.name === 'el-form-item')
      if (!item || !/:error=/.test(item.attrs)) found.push(`<${name}${attrs.slice(0, 60)}>`)
    }
    if (!selfClosing && !['input', 'img', 'br'].includes(name)) stack.push({ name, attrs })
  }
  return found
}

describe('form field errors', () => {
  it('flags an input whose form item has no error binding, and passes one that has it', () => {
    expect(unboundInputs('<el-form><el-form-item label="a"><el-input v-model="x" /></el-form-item></el-form>')).toHaveLength(1)
    expect(unboundInputs('<el-form><el-input v-model="x" /></el-form>')).toHaveLength(1)
    expect(unboundInputs('<el-form @submit.prevent><el-form-item :error="e.fields.x"><el-select v-model="x" @change="(v) => v > 1"><el-option /></el-select></el-form-item></el-form>')).toEqual([])
    expect(unboundInputs('<div><el-input v-model="filter" /></div>')).toEqual([])  // not a form the server judges
    // A field group binds its own fields to the errors it is given; its own template is checked as a form.
    expect(unboundInputs('<el-form><RobotFields v-model:name="x" :errors="errors" /></el-form>')).toEqual([])
    expect(unboundInputs('<el-form-item label="a"><el-input v-model="x" /></el-form-item>')).toHaveLength(1)
    expect(unboundInputs('<el-form-item :error="errors.fields.x"><el-input v-model="x" /></el-form-item>')).toEqual([])
  })

  it('binds every input of every form of the console to the server\'s field error', () => {
    const files = Object.entries(SOURCES)
    expect(files.length).toBeGreaterThan(20)
    const unbound = files.flatMap(([file, source]) => {
      const template = /<template>([\s\S]*)<\/template>/.exec(source)?.[1] ?? ''
      return unboundInputs(template).map((tag) => `${file.replace('../../src/', '')}: ${tag}`)
    })
    expect(unbound).toEqual([])
  })
})
