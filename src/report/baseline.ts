/**
 * What the host baseline is, for every report that shows a ratio to it. Cross-host, the host
 * baseline runs between the two hosts' own namespaces over the underlay; same-host, it has no
 * second container to reach, so it measures the host talking to itself over loopback.
 */
export const SAME_HOST_TEXT =
  'Same-host ratios are against loopback (host → itself): the same-host baseline never leaves the host’s own stack, so every same-host container path is compared with the best case there is.';

/** Short form for table headers and captions. */
export const SAME_HOST_SHORT = 'same-host baseline: loopback (host → itself)';
