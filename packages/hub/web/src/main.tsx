import { render } from 'preact';
import { App } from './app.js';
import { captureLinks } from './router.js';

const root = document.getElementById('app') as HTMLElement;
captureLinks(root);
render(<App />, root);

if ('serviceWorker' in navigator) navigator.serviceWorker.register('/console/sw.js', { scope: '/console/' });
