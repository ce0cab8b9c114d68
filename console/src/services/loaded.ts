// The object a page shows, loaded when the page mounts: a failure becomes the page's error message.
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
