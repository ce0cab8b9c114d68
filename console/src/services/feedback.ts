// Short answers to a click: a toast when an action worked, the server's message when it did not.
import { ElMessage, ElMessageBox } from 'element-plus'
// Called from script, ElMessage / ElMessageBox are not seen by the template's auto-import: their styles come here.
import 'element-plus/es/components/message/style/css'
import 'element-plus/es/components/message-box/style/css'

/** Run an action of a button: `done` as a success toast, the API's message as an error toast. Answers whether it
 * worked; the caller reloads what it shows either way. */
export async function act(call: () => Promise<unknown>, done: string): Promise<boolean> {
  try {
    await call()
    ElMessage.success(done)
    return true
  } catch (e) {
    ElMessage.error((e as Error).message)
    return false
  }
}

/** Show a success toast. */
export function told(text: string): void {
  ElMessage.success(text)
}

/** Ask to confirm a destructive action; false when cancelled. */
export async function confirmed(text: string, title: string): Promise<boolean> {
  try {
    await ElMessageBox.confirm(text, title, { type: 'warning' })
    return true
  } catch {
    return false
  }
}

/** Ask for an optional reason; null when cancelled, '' when left empty. */
export async function reasonFor(title: string, placeholder: string): Promise<string | null> {
  try {
    const { value } = await ElMessageBox.prompt('原因（可选，对方会收到）', title, { inputPlaceholder: placeholder })
    return value || ''
  } catch {
    return null
  }
}

/** Ask for a reason that must be given (at least two characters); null when cancelled. */
export async function requiredReason(title: string, placeholder: string): Promise<string | null> {
  try {
    const { value } = await ElMessageBox.prompt('原因（必填，记入记录链）', title, {
      inputPlaceholder: placeholder, inputValidator: (text: string) => (text ?? '').trim().length >= 2 || '请填写原因',
    })
    return value.trim()
  } catch {
    return null
  }
}
