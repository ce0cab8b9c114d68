// Photos uploaded one by one before the form that references them is sent (a rectification, an inspection
// finding): each goes to the API at once (the server judges it by its content and answers a key and a
// short-lived URL), the form then sends the keys. Shared by 问题详情 and 检查 (components/PhotoUploader.vue).
import { reactive } from 'vue'
import { ApiError, type Schemas } from '../api/client'

export type Photo = Schemas['PhotoOut']

/** How many photos a rectification or a finding may carry (the API refuses more). */
export const MAX_PHOTOS = 9

/** The image types the API takes (it checks the bytes, not this list: the list only filters the file picker). */
export const PHOTO_ACCEPT = 'image/jpeg,image/png,image/webp'

export interface PhotoUploads {
  photos: Photo[]
  uploading: boolean
  /** Why the last upload was refused (the server's message, or its field error for `file`); '' when none. */
  error: string
  readonly full: boolean
  /** Upload one file; answers whether it was taken. */
  add: (file: File) => Promise<boolean>
  remove: (index: number) => void
  keys: () => string[]
  reset: () => void
}

/** The refusal of an upload as one line: the field error of `file` when the server named it, else its message
 * (a lost session answers '' : the log-in page takes over). */
export function uploadError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return ''
    return error.fields.file || error.message
  }
  return (error as Error).message
}

/** The photos of one form, uploaded through `upload` (which names where they go, e.g. the school). */
export function usePhotoUploads(upload: (file: File) => Promise<Photo>, max = MAX_PHOTOS): PhotoUploads {
  const state: PhotoUploads = reactive({
    photos: [] as Photo[],
    uploading: false,
    error: '',
    get full(): boolean { return state.photos.length >= max },
    async add(file: File): Promise<boolean> {
      state.error = ''
      if (state.full) {
        state.error = `最多上传${max}张照片`
        return false
      }
      state.uploading = true
      try {
        state.photos.push(await upload(file))
        return true
      } catch (e) {
        state.error = uploadError(e)
        return false
      } finally {
        state.uploading = false
      }
    },
    remove(index: number): void {
      state.photos.splice(index, 1)
    },
    keys(): string[] {
      return state.photos.map((p) => p.key as string)
    },
    reset(): void {
      state.photos = []
      state.error = ''
    },
  }) as PhotoUploads
  return state
}
