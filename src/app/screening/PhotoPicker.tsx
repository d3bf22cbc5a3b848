import { useRef } from 'react';
import { useFileDrop } from './file-drop';
import { HiddenPhotoInput } from './HiddenPhotoInput';
import { useTranslation } from 'react-i18next';

export function PhotoPicker({ onPhoto, disabled }: { onPhoto: (file: File) => void; disabled: boolean }) {
  const { t } = useTranslation('screening');
  const fileInput = useRef<HTMLInputElement>(null);
  const cameraInput = useRef<HTMLInputElement>(null);
  const take = (files: FileList | null) => {
    const file = files?.[0];
    if (file) onPhoto(file);
  };
  const { dragging, dropProps } = useFileDrop(take, !disabled);
  return (
    <div className={`picker${dragging ? ' dragging' : ''}`} {...dropProps} data-testid="drop-zone">
      <p>{t('picker.drop')}</p>
      <div className="picker-buttons">
        <button type="button" onClick={() => fileInput.current?.click()} disabled={disabled}>
          {t('picker.choose')}
        </button>
        <button type="button" onClick={() => cameraInput.current?.click()} disabled={disabled}>
          {t('picker.take')}
        </button>
      </div>
      <HiddenPhotoInput ref={fileInput} testId="photo-input" label={t('picker.chooseLabel')} onFiles={take} />
      <HiddenPhotoInput ref={cameraInput} testId="camera-input" label={t('picker.takeLabel')} capture="user" onFiles={take} />
      <p className="hint">{t('picker.hint')}</p>
    </div>
  );
}
