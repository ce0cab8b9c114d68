// The object a page shows, loaded when the page mounts, and the page's loading flags: a failure becomes the page's
// error message.
import { onMounted, ref, type Ref } from 'vue'

export interface Loaded<T> {
  data: Ref<T | null>
  error: Ref<string>
  reload: () => Promise<void>
}

/** Load the page's object on mount (and again on `reload()`); keep the error's message for the page. */
export function useLoaded<T>(load: () => Promise<T>): Loaded<T> {
  const data = ref(null) as Ref<T | null>
  const error = ref('')
  async function reload(): Promise<void> {
    try {
      data.value = await load()
    } catch (e) {
      error.value = (e as Error).message
    }
  }
  onMounted(reload)
  return { data, error, reload }
}

export interface Busy {
  loading: Ref<boolean>
  error: Ref<string>
  run: (work: () => Promise<unknown>) => Promise<boolean>
}

/** A page's loading (or exporting) flag and its error line: `run(work)` clears the error, holds `loading` while
 * `work` runs and keeps its failure's message; answers whether it worked. A page with several flags (its list and
 * its export) passes the one `error` they share. */
export function useBusy(error: Ref<string> = ref('')): Busy {
  const loading = ref(false)
  async function run(work: () => Promise<unknown>): Promise<boolean> {
    loading.value = true
    error.value = ''
    try {
      await work()
      return true
    } catch (e) {
      error.value = (e as Error).message
      return false
    } finally {
      loading.value = false
    }
  }
  return { loading, error, run }
}
