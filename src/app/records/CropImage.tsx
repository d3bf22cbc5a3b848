import { useEffect, useState } from 'react';
import { ALIGNED_CROP_SIZE } from '../../pipeline/align';

/** A stored PNG crop, shown through a blob: URL that is revoked when the image goes away. */
export function CropImage({ png, alt, className }: { png: Uint8Array; alt: string; className?: string }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    const u = URL.createObjectURL(new Blob([png as Uint8Array<ArrayBuffer>], { type: 'image/png' }));
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [png]);
  return url ? <img src={url} alt={alt} className={className} width={ALIGNED_CROP_SIZE} height={ALIGNED_CROP_SIZE} data-testid="case-crop" /> : null;
}
