// The typed API client: every path and body type comes from src/api/schema.d.ts, generated from the
// API's /openapi.json (scripts/dump_openapi.py, then `npm run types`); a pytest test fails when it is stale.
import type { components, paths } from './schema'

export type Schemas = components['schemas']

/** The API's one error shape: {"error": {"code", "message", "details"}}. */
export class ApiError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
    public readonly details: Record<string, unknown> = {},
  ) {
    super(message)
  }

  /** Field errors of a 422, by field name (the form shows each next to its field), and the field a rule's
   * refusal names; the errors of a list's items (`{"live_windows": {"0": {"end": [...]}}}`) are told under the list's name with the item's number. */
  get fields(): Record<string, string> {
    const fields = (this.details.fields ?? {}) as Record<string, unknown>
    const out: Record<string, string> = {}
    for (const [name, messages] of Object.entries(fields)) out[name] = fieldMessage(messages)
    // A business rule's refusal names the one field it is about (`{"field": "phone"}`) with its message.
    if (typeof this.details.field === 'string' && !(this.details.field in out)) out[this.details.field] = this.message
    return out
  }
}

/** One field's messages as one line: a list joined, nested items prefixed "第 n 条：". */
export function fieldMessage(messages: unknown): string {
  if (Array.isArray(messages)) return messages.map(fieldMessage).join('；')
  if (messages && typeof messages === 'object') {
    return Object.entries(messages as Record<string, unknown>).map(([key, inner]) =>
      (/^\d+$/.test(key) ? `第 ${Number(key) + 1} 条：` : '') + fieldMessage(inner)).join('；')
  }
  return String(messages)
}

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete'
/** The API paths (without /api/v1) that answer a given method. */
export type PathsWith<M extends Method> = {
  [P in keyof paths]: paths[P] extends Record<M, object> ? (P extends `/api/v1${infer R}` ? R : never) : never
}[keyof paths]

type Operation<M extends Method, P extends string> = `/api/v1${P}` extends keyof paths
  ? paths[`/api/v1${P}`] extends Record<M, infer O> ? O : never
  : never
type JsonOf<T> = T extends { content: { 'application/json': infer J } } ? J : never
type Success<O> = O extends { responses: infer R }
  ? R extends Record<200, infer A> ? JsonOf<A> : R extends Record<201, infer B> ? JsonOf<B> : void
  : never
type BodyOf<O> = O extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never
type QueryOf<O> = O extends { parameters: { query?: infer Q } } ? Q : never

export interface ClientHooks {
  token: () => string | null
  onUnauthorized: () => void
}

let hooks: ClientHooks = { token: () => null, onUnauthorized: () => undefined }

/** Wire the client to the session (who is logged in, what to do on a 401). */
export function configureClient(next: ClientHooks): void {
  hooks = next
}

/** Fill `{name}` placeholders of a path template. */
export function fillPath(template: string, params: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (!(name in params)) throw new Error(`missing path parameter ${name}`)
    return encodeURIComponent(String(params[name]))
  })
}

function queryString(query: Record<string, unknown> | undefined): string {
  if (!query) return ''
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value))
  }
  const text = search.toString()
  return text ? `?${text}` : ''
}

interface SendOptions {
  params?: Record<string, string | number>
  query?: Record<string, unknown>
  body?: unknown
  // Extra request headers (a create's Idempotency-Key).
  headers?: Record<string, string>
}

/** Send a request; a failed answer becomes an ApiError (a 401 also ends the session). */
async function request(method: Method, template: string, options: SendOptions, accept: string): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers, Accept: accept }
  const token = hooks.token()
  if (token) headers.Authorization = `Bearer ${token}`
  // A form (a file upload) goes as multipart: the browser writes its Content-Type with the boundary.
  const form = options.body instanceof FormData
  if (options.body !== undefined && !form) headers['Content-Type'] = 'application/json'
  const response = await fetch(`/api/v1${fillPath(template, options.params)}${queryString(options.query)}`, {
    method: method.toUpperCase(),
    headers,
    body: options.body === undefined ? undefined : form ? options.body as FormData : JSON.stringify(options.body),
  })
  if (!response.ok) {
    const payload = await response.json().catch(() => null)
    const error = (payload && payload.error) || {}
    if (response.status === 401) hooks.onUnauthorized()
    throw new ApiError(response.status, error.code ?? 'http_error', error.message ?? `请求失败（${response.status}）`,
      error.details ?? {})
  }
  return response
}

async function send(method: Method, template: string, options: SendOptions): Promise<unknown> {
  const response = await request(method, template, options, 'application/json')
  if (response.status === 204) return undefined
  return response.json().catch(() => null)
}

/** A file the API sends (an Excel export): its bytes and the download name from Content-Disposition. */
export interface Download { blob: Blob, filename: string }

/** GET a file with the session's token (a plain link cannot carry it). */
export async function download<P extends PathsWith<'get'>>(path: P, options: {
  params?: Record<string, string | number>
  query?: QueryOf<Operation<'get', P>>
} = {}): Promise<Download> {
  const response = await request('get', path, options as SendOptions, '*/*')
  const disposition = response.headers.get('Content-Disposition') ?? ''
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1]
  const plain = /filename="?([^";]+)"?/i.exec(disposition)?.[1]
  return { blob: await response.blob(), filename: encoded ? decodeURIComponent(encoded) : plain ?? 'download' }
}

/** Hand a downloaded file to the browser as a save (an object URL clicked through a temporary link). */
export function saveFile(file: Download): void {
  const url = URL.createObjectURL(file.blob)
  const link = document.createElement('a')
  link.href = url
  link.download = file.filename
  document.body.appendChild(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}

/** GET a path; the answer is typed by the OpenAPI document. */
export function get<P extends PathsWith<'get'>>(path: P, options: {
  params?: Record<string, string | number>
  query?: QueryOf<Operation<'get', P>>
} = {}): Promise<Success<Operation<'get', P>>> {
  return send('get', path, options as never) as Promise<Success<Operation<'get', P>>>
}

/** GET a page of a list and how many rows match in all (the `X-Total-Count` header). */
export async function getPage<P extends PathsWith<'get'>>(path: P, options: {
  params?: Record<string, string | number>
  query?: QueryOf<Operation<'get', P>>
} = {}): Promise<{ rows: Success<Operation<'get', P>>, total: number }> {
  const response = await request('get', path, options as SendOptions, 'application/json')
  const rows = await response.json() as Success<Operation<'get', P>>
  const total = Number(response.headers.get('X-Total-Count') ?? (Array.isArray(rows) ? rows.length : 0))
  return { rows, total }
}

/** A method that sends a JSON body to a path; body and answer are typed by the OpenAPI document. */
function withBody<M extends 'post' | 'patch' | 'put'>(method: M) {
  return <P extends PathsWith<M>>(path: P, options: {
    params?: Record<string, string | number>
    body?: BodyOf<Operation<M, P>>
    headers?: Record<string, string>
  } = {}): Promise<Success<Operation<M, P>>> =>
    send(method, path, options as never) as Promise<Success<Operation<M, P>>>
}

/** POST a JSON body to a path. */
export const post = withBody('post')

/** PATCH a JSON body to a path (only the fields sent change). */
export const patch = withBody('patch')

/** PUT a JSON body to a path (the whole resource). */
export const put = withBody('put')

/** DELETE a path. */
export function del<P extends PathsWith<'delete'>>(path: P, options: {
  params?: Record<string, string | number>
} = {}): Promise<void> {
  return send('delete', path, options as never) as Promise<void>
}

/** POST a multipart form (a file upload); the answer is typed by the OpenAPI document. */
export function postForm<P extends PathsWith<'post'>>(path: P, options: {
  params?: Record<string, string | number>
  form: FormData
}): Promise<Success<Operation<'post', P>>> {
  return send('post', path, { params: options.params, body: options.form }) as Promise<Success<Operation<'post', P>>>
}
