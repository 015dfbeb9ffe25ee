/** The small part of jstat (a CommonJS module without types) that cnlab uses. */
declare module 'jstat' {
  interface StudentT {
    /** Quantile: x such that P(T <= x) = p for Student's t with dof degrees of freedom. */
    inv(p: number, dof: number): number;
    cdf(x: number, dof: number): number;
  }
  const jStat: { studentt: StudentT };
  export = jStat;
}
