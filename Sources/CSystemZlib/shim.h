// zlib from the system (Debian: zlib1g-dev), found through pkg-config: inflating gzip and deflate request bodies
// (Content-Encoding). ZIPFoundation's own zlib module (named CZlib, hence this name) is internal to it.
#include <zlib.h>
