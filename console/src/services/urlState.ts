// Pages that keep their choices (filters, a canteen and day) in the URL's query.
import type { RouteLocationNormalizedLoaded, Router } from 'vue-router'

/**
 * Put ``wanted`` in the URL's query (empty and null values left out) unless it is there already, whatever the order of its
 * keys. True when the URL changed: the desk re-mounts its page on every URL change (App.vue keys the view by the
 * full path), so the page mounted for the new URL does the loading and the caller stops; false when the URL
 * already says it, and the caller loads.
 */
export function moveToQuery(router: Router, route: RouteLocationNormalizedLoaded,
  wanted: Record<string, string | number | boolean | null | undefined>): boolean {
  const query = Object.fromEntries(Object.entries(wanted)
    .filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => [k, String(v)]))
  const current = route.query
  if (Object.keys(query).length === Object.keys(current).length && Object.entries(query).every(([k, v]) => current[k] === v)) {
    return false
  }
  void router.replace({ query })
  return true
}
