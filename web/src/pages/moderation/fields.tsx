import { useId, type ReactNode, type SelectHTMLAttributes } from 'react';

/** A labelled select, styled like TextField. */
export function SelectField({
  label,
  children,
  ...props
}: SelectHTMLAttributes<HTMLSelectElement> & { label: string; children: ReactNode }) {
  const id = useId();
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-sm font-medium">
        {label}
      </label>
      <select
        id={id}
        className="min-h-10 rounded-md border border-slate-400 bg-white px-3 py-2 text-base"
        {...props}
      >
        {children}
      </select>
    </div>
  );
}
