// A stand-in for vitest's expectTypeOf in the scratch apps, so the type tests
// of test/types/ compile against the installed .d.ts without vitest:
// `toEqualTypeOf<B>()` compiles only when the types are identical.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
export declare function expectTypeOf<A>(value: A): {
  toEqualTypeOf<B>(...mismatch: Equal<A, B> extends true ? [] : [never]): void;
};
