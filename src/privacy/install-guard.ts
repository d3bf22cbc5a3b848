// Imported first by the app's entry (src/main.tsx) and by every worker the app starts: an ES module's imports run in
// order, so the network guard is in place before any other module of the app, or any library, has run.
import { installNetworkGuard } from './network-guard';

installNetworkGuard();
