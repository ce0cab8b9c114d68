// Field errors of a 422 for a form: `errors.measures` is what el-form-item :error shows next to the field.
import { reactive } from 'vue'
import { ApiError } from '../api/client'

export interface FormErrors {
  fields: Record<string, string>
  message: string
}

/** A reactive holder of a form's errors, filled from whatever the API threw. */
export function useFormErrors(): FormErrors & { take: (error: unknown) => void, clear: () => void } {
  const state = reactive({ fields: {} as Record<string, string>, message: '' })
  return Object.assign(state, {
    take(error: unknown): void {
      state.fields = error instanceof ApiError ? error.fields : {}
      state.message = error instanceof ApiError && error.status === 401 ? '' : (error as Error).message
    },
    clear(): void {
      state.fields = {}
      state.message = ''
    },
  })
}

/** Run a form's call to the API: errors cleared first, the server's field errors kept on failure,
 * `done` (clear the draft, show the answer) run on success. Answers whether the call succeeded. */
export async function submitForm<T>(errors: ReturnType<typeof useFormErrors>, call: () => Promise<T>,
  done: (value: T) => unknown = () => undefined): Promise<boolean> {
  errors.clear()
  try {
    await done(await call())
    return true
  } catch (e) {
    errors.take(e)
    return false
  }
}
