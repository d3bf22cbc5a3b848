import { useEffect, useRef } from 'react';
import type { RgbaImage } from '../../pipeline/image';

/** Draws a plain RGBA image (the aligned crop) into a canvas of its size. */
export function RgbaCanvas({ image, className, label }: { image: RgbaImage; className?: string; label: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    canvas.current?.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(image.data), image.width, image.height), 0, 0);
  }, [image]);
  return (
    <div className={className}>
      <canvas ref={canvas} width={image.width} height={image.height} role="img" aria-label={label} />
    </div>
  );
}
