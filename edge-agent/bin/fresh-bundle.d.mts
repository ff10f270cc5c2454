/** Types of fresh-bundle.mjs (plain JavaScript: it runs before tsx is loaded). */
export declare const BUNDLE: string;
export declare const MANIFEST: string;
export interface FreshBundleOptions {
  readonly bundle?: string;
  readonly manifest?: string;
  /** Told why the bundle may not run (no bundle, an input changed or is gone). */
  readonly why?: (reason: string) => void;
}
/** The bundle's path while every file it was built from is unchanged, else undefined. */
export declare function freshBundle(options?: FreshBundleOptions): string | undefined;
