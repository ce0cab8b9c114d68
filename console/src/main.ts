import { createApp } from 'vue'
import 'element-plus/theme-chalk/base.css'
import App from './App.vue'
import { router } from './router'

// Mounted once the first route is known: until then the route has no meta, and App would draw the desk's frame
// (its 消息 bell asking the inbox without a session) over the log-in page.
const app = createApp(App).use(router)
router.isReady().then(() => app.mount('#app'))
