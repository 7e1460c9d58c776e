/**
 * The app's single entry: importing this module registers every function with the Functions runtime
 * (and with the local host, which captures the same registrations).
 */
import './functions/plan.js';
