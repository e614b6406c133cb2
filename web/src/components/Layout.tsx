import { Suspense } from 'react';
import { Link, Outlet } from 'react-router-dom';
import { Nav } from './Nav';
import { Loading } from './States';

export function Layout() {
  return (
    <div className="min-h-screen">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:rounded focus:bg-white focus:px-3 focus:py-2"
      >
        Skip to content
      </a>
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-5xl flex-wrap items-center justify-between gap-2 px-4 py-3">
          <Link to="/" className="text-lg font-extrabold tracking-tight text-indigo-800">
            MyDRTV
          </Link>
          <Nav />
        </div>
      </header>
      <main id="main" className="mx-auto max-w-5xl px-4 py-6">
        <Suspense fallback={<Loading />}>
          <Outlet />
        </Suspense>
      </main>
    </div>
  );
}
