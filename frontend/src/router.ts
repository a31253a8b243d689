// One route per view; hash history, because Bitrix24 opens the app at `/` and at placement paths
// (by POST), and the query after the hash keeps the filters.
import { createRouter, createWebHashHistory } from 'vue-router';
import OverviewView from './views/OverviewView.vue';

export const VIEWS = ['overview', 'doctors', 'directions', 'services', 'retention'] as const;
export const ADMIN_VIEWS = ['data', 'settings'] as const;

export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', name: 'overview', component: OverviewView },
    { path: '/doctors', name: 'doctors', component: () => import('./views/DoctorsView.vue') },
    { path: '/doctors/:id', name: 'doctor', component: () => import('./views/DoctorView.vue') },
    { path: '/directions', name: 'directions', component: () => import('./views/DirectionsView.vue') },
    { path: '/services', name: 'services', component: () => import('./views/ServicesView.vue') },
    { path: '/retention', name: 'retention', component: () => import('./views/RetentionView.vue') },
    { path: '/data', name: 'data', component: () => import('./views/DataView.vue'), meta: { admin: true } },
    { path: '/settings', name: 'settings', component: () => import('./views/SettingsView.vue'), meta: { admin: true } },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
});
