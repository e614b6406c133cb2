/** The route table: each page is loaded lazily, so a visit downloads only what it shows. */
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
      { path: 'u/:handle', lazy: page(() => import('./pages/profile/ProfilePage')) },
      { path: 'videos/:videoId', lazy: page(() => import('./pages/video/VideoPage')) },
      { path: 'parties', lazy: page(() => import('./pages/party/PartyPage')) },
      { path: 'parties/:partyId', lazy: page(() => import('./pages/party/PartyPage')) },
      { path: 'social', lazy: page(() => import('./pages/social/SocialPage')) },
      { path: 'upload', lazy: page(() => import('./pages/upload/UploadPage')) },
      { path: 'moderation', lazy: page(() => import('./pages/moderation/ModerationPage')) },
      { path: '*', lazy: page(() => import('./pages/NotFoundPage')) },
    ],
  },
];

export const router = createBrowserRouter(routes);
