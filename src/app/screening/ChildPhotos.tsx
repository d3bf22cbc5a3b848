// The photos of one child in a several-photo screening: each with its own result (or why it has none), a way to
// include a photo the quality gate left out, remove it, or show its heatmap; and the controls to add more.
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { formatPercent } from '../../i18n';
import { topClassIndex } from '../../pipeline/uncertainty';
import type { ModelReady } from '../../inference/protocol';
import type { RgbaImage } from '../../pipeline/image';
import type { QualityReport } from '../../pipeline/quality';
import { MAX_PHOTOS_PER_CHILD } from '../../screening/fusion';
import type { ChildPhoto } from './screening-result';
import { Heatmap } from './Heatmap';
import { useFileDrop } from './file-drop';
import { HiddenPhotoInput } from './HiddenPhotoInput';
import { RgbaCanvas } from '../ui/RgbaCanvas';

/** What a photo card shows: the first photo of the screening, or an added one. */
export interface PhotoCard {
  key: number;
  name: string;
  state: ChildPhoto['state'];
  message?: string;
  crop?: RgbaImage;
  quality?: QualityReport;
  overridden: boolean;
  probabilities?: number[];
  inferenceMs?: number;
  included: boolean;
}

export function ChildPhotos({
  cards,
  model,
  onAdd,
  onInclude,
  onRemove,
}: {
  cards: PhotoCard[];
  model: ModelReady;
  onAdd: (files: File[]) => void;
  onInclude: (key: number) => void;
  onRemove: (key: number) => void;
}) {
  const { t, i18n } = useTranslation('screening');
  const lng = i18n.language;
  const fileInput = useRef<HTMLInputElement>(null);
  const cameraInput = useRef<HTMLInputElement>(null);
  const [limit, setLimit] = useState(false);
  const room = MAX_PHOTOS_PER_CHILD - cards.length;
  const add = (list: FileList | null) => {
    const files = Array.from(list ?? []);
    if (files.length === 0) return;
    setLimit(files.length > room);
    if (room > 0) onAdd(files.slice(0, room));
  };
  const { dragging, dropProps } = useFileDrop(add);
  const classes = model.manifest.classes;
  return (
    <section className="child-photos records-card" data-testid="child-photos" data-count={cards.length} aria-labelledby="child-photos-title">
      <h3 id="child-photos-title">{t('childPhotos.title')}</h3>
      <p className="hint">{t('childPhotos.description', { max: MAX_PHOTOS_PER_CHILD })}</p>
      {cards.length > 1 && (
        <ol className="photo-entries">
          {cards.map((c, index) => {
            const failed = c.quality?.checks.filter((q) => q.status === 'fail').map((q) => t(`checks.${q.id}.name`, { ns: 'quality' })) ?? [];
            const top = c.probabilities ? topClassIndex(c.probabilities) : -1;
            return (
              <li
                key={c.key}
                className={`photo-entry${c.included ? '' : ' left-out'}`}
                data-testid="photo-entry"
                data-state={c.state}
                data-included={c.included}
                data-name={c.name}
              >
                <h4>
                  {index === 0 ? t('childPhotos.first') : t('childPhotos.n', { n: index + 1 })} <span className="photo-name">{c.name}</span>
                </h4>
                {c.crop && <RgbaCanvas image={c.crop} className="photo-entry-crop" label={t('result.cropLabel')} />}
                {c.state === 'working' && (
                  <p className="working" role="status">
                    {t('childPhotos.working')}
                  </p>
                )}
                {c.state === 'error' && (
                  <p className="error" role="alert" data-testid="photo-entry-error">
                    {c.message}
                  </p>
                )}
                {c.state === 'gated' && (
                  <p className="notice" data-testid="photo-left-out">
                    {t('childPhotos.leftOut', { checks: failed.join(', ') })}{' '}
                    <button type="button" className="secondary" onClick={() => onInclude(c.key)} data-testid="photo-include-anyway">
                      {t('childPhotos.includeAnyway')}
                    </button>
                  </p>
                )}
                {c.state === 'screened' && c.overridden && <p className="notice">{t('childPhotos.includedAnyway')}</p>}
                {c.probabilities && (
                  <ul className="probs compact" aria-label={t('result.probabilities')}>
                    {classes.map((cls, i) => (
                      <li key={cls.id} data-testid={`photo-prob-${cls.id}`} data-value={c.probabilities![i]} className={i === top ? 'top' : undefined}>
                        <span className="prob-label">{cls.displayName[lng] ?? cls.displayName.en}</span>
                        <span className="prob-value">{formatPercent(c.probabilities![i]!)}</span>
                      </li>
                    ))}
                  </ul>
                )}
                {c.probabilities && c.crop && top >= 0 && (
                  <PhotoHeatmap
                    crop={c.crop}
                    classIndex={top}
                    className={classes[top]!.displayName[lng] ?? classes[top]!.displayName.en}
                    model={model}
                    inferenceMs={c.inferenceMs ?? 0}
                  />
                )}
                {index > 0 && (
                  <button type="button" className="secondary" onClick={() => onRemove(c.key)} data-testid="photo-remove">
                    {t('childPhotos.remove')}
                  </button>
                )}
              </li>
            );
          })}
        </ol>
      )}
      <div className={`picker compact${dragging ? ' dragging' : ''}`} {...dropProps} data-testid="photo-add-drop">
        <div className="picker-buttons">
          <button type="button" onClick={() => fileInput.current?.click()} disabled={room <= 0} data-testid="photo-add">
            {t('childPhotos.add')}
          </button>
          <button type="button" className="secondary" onClick={() => cameraInput.current?.click()} disabled={room <= 0}>
            {t('childPhotos.addCamera')}
          </button>
        </div>
        <p className="hint">{t('childPhotos.drop')}</p>
        <HiddenPhotoInput ref={fileInput} testId="photo-add-input" label={t('childPhotos.addLabel')} multiple onFiles={add} />
        <HiddenPhotoInput ref={cameraInput} testId="photo-add-camera" label={t('childPhotos.addLabel')} capture="environment" onFiles={add} />
      </div>
      {limit && (
        <p className="error" role="alert" data-testid="photo-add-limit">
          {t('childPhotos.limit', { max: MAX_PHOTOS_PER_CHILD })}
        </p>
      )}
    </section>
  );
}

/** The heatmap of one photo, mounted only when asked for (it runs the model ~50 times). */
function PhotoHeatmap(props: { crop: RgbaImage; classIndex: number; className: string; model: ModelReady; inferenceMs: number }) {
  const { t } = useTranslation('screening');
  const [open, setOpen] = useState(false);
  return (
    <details className="photo-heatmap" data-testid="photo-heatmap" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>{t('childPhotos.heatmap')}</summary>
      {open && <Heatmap {...props} />}
    </details>
  );
}
