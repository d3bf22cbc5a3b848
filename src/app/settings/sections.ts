// The Settings screen is this list, in order. A feature adds its own section component with one line here.
import type { ComponentType } from 'react';
import { AppearanceSection, BackendSection, KioskSection, LanguageSection } from './GeneralSections';
import { ReliabilitySettingsSection } from './ReliabilitySettings';
import { RecordsSettingsSection } from '../records/RecordsSettings';
import { AdminSection } from '../admin/AdminSection';

export const settingsSections: { id: string; component: ComponentType }[] = [
  { id: 'admin', component: AdminSection },
  { id: 'language', component: LanguageSection },
  { id: 'appearance', component: AppearanceSection },
  { id: 'records', component: RecordsSettingsSection },
  { id: 'reliability', component: ReliabilitySettingsSection },
  { id: 'kiosk', component: KioskSection },
  { id: 'backend', component: BackendSection },
];
