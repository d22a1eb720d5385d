// libnghttp2's C API, the HTTP/2 framing layer under the server's h2c connections
// (Debian: libnghttp2-dev).
#include <nghttp2/nghttp2.h>
