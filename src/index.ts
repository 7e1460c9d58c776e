/**
 * The app's single entry: importing this module registers every function with the Functions runtime
 * (and with the local host, which captures the same registrations).
 */
import './functions/plan.js';
import './functions/links.js';
import './functions/operations.js';
import './functions/queue.js';
import './functions/lifecycle.js';
import './functions/certificates.js';
import './orchestrators/operations.js';
import './activities/preflight.js';
import './activities/run-step.js';
import './activities/inspect.js';
import './functions/health.js';
import './functions/adopt.js';
import './orchestrators/healthSweep.js';
import './activities/health.js';
import './activities/inventory.js';
import './activities/certificate-rotations.js';
import './orchestrators/fleet.js';
import './functions/fleets.js';
