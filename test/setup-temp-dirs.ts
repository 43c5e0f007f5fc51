// Runs in every test file's process (a vitest setup file, not imported by worker processes): the temp directories a
// test file made are removed after its tests. Registered before the file's own hooks, so it runs after its afterAll
// hooks, which stop the workers and servers writing there.
import { afterAll } from 'vitest';
import { removeTempDirs } from './helpers/temp-dirs';

afterAll(removeTempDirs);
