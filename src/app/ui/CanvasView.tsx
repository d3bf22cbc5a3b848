import { useEffect, useRef } from 'react';

/** Shows an existing canvas element (no re-encoding of large photos). */
export function CanvasView({ canvas, className, label }: { canvas: HTMLCanvasElement; className?: string; label: string }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', label);
    el.replaceChildren(canvas);
    return () => {
      el.replaceChildren();
    };
  }, [canvas, label]);
  return <div ref={host} className={className} />;
}
