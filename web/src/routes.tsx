/**
 * The route table: each page is loaded lazily, so a visit downloads only what it shows.
 * No path may start with a segment the API uses (videos, parties, moderation, me, users, media,
 * ...): the server answers those itself, so a reload there would show JSON instead of the page.
 */
import type { ComponentType } from 'react';
import { createBrowserRouter, type RouteObject } from 'react-router-dom';
import { Layout } from './components/Layout';
import { RouteError } from './components/RouteError';

type PageModule = { default: ComponentType };
const page = (load: () => Promise<PageModule>) => async () => ({ Component: (await load()).default });

export const routes: RouteObject[] = [
  {
    path: '/',
    element: <Layout />,
    errorElement: <RouteError />,
    children: [
      { index: true, lazy: page(() => import('./pages/catalog/CatalogPage')) },
      { path: 'signup', lazy: page(() => import('./pages/auth/SignUpPage')) },
      { path: 'signin', lazy: page(() => import('./pages/auth/SignInPage')) },
      { path: 'profile', lazy: page(() => import('./pages/profile/ProfilePage')) },
      { path: 'people/:handle', lazy: page(() => import('./pages/profile/ProfilePage')) },
      { path: 'watch/:videoId', lazy: page(() => import('./pages/video/VideoPage')) },
      { path: 'party', lazy: page(() => import('./pages/party/PartyPage')) },
      { path: 'party/:partyId', lazy: page(() => import('./pages/party/PartyPage')) },
      { path: 'friends', lazy: page(() => import('./pages/social/SocialPage')) },
      { path: 'upload', lazy: page(() => import('./pages/upload/UploadPage')) },
      { path: 'notifications', lazy: page(() => import('./pages/notifications/NotificationsPage')) },
      { path: 'notifications/:section', lazy: page(() => import('./pages/notifications/NotificationsPage')) },
      { path: 'moderate', lazy: page(() => import('./pages/moderation/ModerationPage')) },
      { path: '*', lazy: page(() => import('./pages/NotFoundPage')) },
    ],
  },
];

export const router = createBrowserRouter(routes);
