/// <reference types="vitest" />
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import AutoImport from 'unplugin-auto-import/vite'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'

// Served by the API at /console/ (same origin: no CORS). `npm run dev` proxies /api to a local API.
export default defineConfig({
  base: '/console/',
  plugins: [
    vue(),
    // Element Plus on demand: only the components and styles the pages use end up in the bundle.
    AutoImport({ resolvers: [ElementPlusResolver()], dts: false }),
    Components({ resolvers: [ElementPlusResolver()], dts: false, dirs: [] }),
  ],
  server: { proxy: { '/api': 'http://127.0.0.1:5000' } },
  build: {
    chunkSizeWarningLimit: 800,
    rollupOptions: {
      output: {
        // ECharts only loads with the overview page; the framework chunk is shared by every page.
        manualChunks: (id) => (id.includes('node_modules/echarts') || id.includes('node_modules/zrender') ? 'charts' : undefined),
      },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['tests/unit/**/*.spec.ts'],
    css: false,
    server: { deps: { inline: ['element-plus'] } },
  },
})
