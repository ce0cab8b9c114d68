/// <reference types="vite/client" />
declare module '*.vue' {
  import type { DefineComponent } from 'vue'
  const component: DefineComponent<object, object, unknown>
  export default component
}

// hls.js's light build ships no types of its own; it is the same Hls class as the full build's.
declare module 'hls.js/light' {
  import Hls from 'hls.js'
  export default Hls
}
