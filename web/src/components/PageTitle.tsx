import { useEffect, type ReactNode } from 'react';

/** The page's one h1; it also names the browser tab, so screen readers announce where they are. */
export function PageTitle({ children, title }: { children: ReactNode; title?: string }) {
  const text = title ?? (typeof children === 'string' ? children : '');
  useEffect(() => {
    document.title = text ? `${text} · MyDRTV` : 'MyDRTV';
  }, [text]);
  return <h1 className="mb-4 text-2xl font-bold tracking-tight">{children}</h1>;
}
