import { useTranslation } from 'react-i18next';
import type { DetectedFace, QuarterTurn } from '../../pipeline/face-search';
import { CanvasView } from '../ui/CanvasView';

/** The photo with every detected face box and keypoints; tap a box to screen that face (when onChoose is given). */
export function FaceOverlay({
  preview,
  previewScale,
  faces,
  chosen,
  turn = 0,
  onChoose,
}: {
  preview: HTMLCanvasElement;
  previewScale: number;
  faces: DetectedFace[];
  chosen: number;
  /** The quarter turn that made the photo upright, said under it when not 0. */
  turn?: QuarterTurn;
  onChoose?: (index: number) => void;
}) {
  const { t } = useTranslation('screening');
  const s = previewScale;
  const choosable = faces.length > 1 && onChoose !== undefined;
  return (
    <div className="overlay-frame">
      <CanvasView canvas={preview} className="overlay-photo" label={t('photo')} />
      <svg className="overlay-svg" viewBox={`0 0 ${preview.width} ${preview.height}`} data-testid="face-overlay">
        {faces.map((f, i) => (
          <g
            key={i}
            className={i === chosen ? 'face chosen' : 'face'}
            data-testid={i === chosen ? 'face-box-chosen' : 'face-box'}
            data-box={[f.box.x, f.box.y, f.box.width, f.box.height].map((v) => v.toFixed(1)).join(',')}
            data-score={f.score}
            role={choosable ? 'button' : undefined}
            tabIndex={choosable ? 0 : undefined}
            aria-label={choosable ? t(i === chosen ? 'faceLabelChosen' : 'faceLabel', { n: i + 1 }) : undefined}
            onClick={() => onChoose?.(i)}
            onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && onChoose?.(i)}
          >
            <rect x={f.box.x * s} y={f.box.y * s} width={f.box.width * s} height={f.box.height * s} />
            {f.keypoints.slice(0, 4).map((k, j) => (
              <circle key={j} cx={k.x * s} cy={k.y * s} r={Math.max(2, f.box.width * s * 0.025)} />
            ))}
          </g>
        ))}
      </svg>
      {turn !== 0 && (
        <p className="hint" data-testid="photo-turn" data-turn={turn}>
          {t('turned', { degrees: turn })}
        </p>
      )}
    </div>
  );
}
