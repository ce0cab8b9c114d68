// Form drafts kept in sessionStorage: a form survives an expired session's detour through the log-in page.
import { reactive, watch } from 'vue'

const PREFIX = 'console.draft.'

/** A reactive form object restored from, and saved to, sessionStorage under `key`. */
export function useDraft<T extends object>(key: string, initial: T): T {
  let saved: Partial<T> = {}
  try {
    saved = JSON.parse(sessionStorage.getItem(PREFIX + key) ?? '{}') as Partial<T>
  } catch {
    saved = {}
  }
  const form = reactive({ ...initial, ...saved }) as T
  watch(() => ({ ...form }), (value) => sessionStorage.setItem(PREFIX + key, JSON.stringify(value)), { deep: true })
  return form
}

/** Forget a draft once the server accepted it, and put the form back to its initial values. */
export function clearDraft<T extends object>(key: string, form: T, initial: T): void {
  Object.assign(form, initial)
  sessionStorage.removeItem(PREFIX + key)
}
