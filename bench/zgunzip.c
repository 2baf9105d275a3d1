/* zgunzip FILE: inflates a gzip file with zlib (the library pprof_exporter
 * links) and discards the output; prints nothing. A second decompression
 * floor beside `gzip -dc`, whose own inflate code is older and slower than
 * zlib's. Concatenated gzip members are followed, like gzip -dc.
 * Build: cc -O2 -o zgunzip zgunzip.c -lz */
#include <stdio.h>
#include <string.h>
#include <zlib.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: zgunzip FILE\n");
    return 2;
  }
  FILE *in = fopen(argv[1], "rb");
  if (!in) {
    perror(argv[1]);
    return 1;
  }
  static unsigned char inbuf[1 << 20], outbuf[1 << 20];
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return 1;
  unsigned long long total = 0;
  int ret = Z_OK;
  for (;;) {
    if (zs.avail_in == 0) {
      zs.avail_in = (uInt)fread(inbuf, 1, sizeof inbuf, in);
      zs.next_in = inbuf;
      if (zs.avail_in == 0) break;
    }
    zs.next_out = outbuf;
    zs.avail_out = sizeof outbuf;
    ret = inflate(&zs, Z_NO_FLUSH);
    total += sizeof outbuf - zs.avail_out;
    if (ret == Z_STREAM_END) {
      if (zs.avail_in == 0) {
        zs.avail_in = (uInt)fread(inbuf, 1, sizeof inbuf, in);
        zs.next_in = inbuf;
        if (zs.avail_in == 0) break;
      }
      inflateReset(&zs);
    } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
      fprintf(stderr, "%s: inflate error %d\n", argv[1], ret);
      return 1;
    }
  }
  inflateEnd(&zs);
  fclose(in);
  return total > 0 ? 0 : 1;
}
