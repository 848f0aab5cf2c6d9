# Writes the C file that the gcc trace compiles: many small functions, tables and loops, so
# that cc1 -O2 has real optimisation work (inlining, vectorisation, register allocation).
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 600
out = ["#include <stdint.h>", "#include <string.h>", "#include <stdio.h>", ""]
for i in range(n):
    out.append(f"static const uint32_t table_{i}[16] = {{{', '.join(str((i * 31 + j * 17) % 1009) for j in range(16))}}};")
    out.append(f"""__attribute__((noinline)) uint64_t f_{i}(const uint32_t *a, size_t len, uint64_t seed) {{
    uint64_t h = seed ^ {i}u;
    for (size_t k = 0; k < len; k++) {{
        h = (h ^ a[k]) * 1099511628211ull + table_{i}[k & 15];
        if ((h & {i % 7 + 1}) == 0) h ^= h >> {i % 13 + 3};
    }}
    struct {{ uint32_t v[8]; }} s;
    memset(&s, 0, sizeof s);
    for (int q = 0; q < 8; q++) s.v[q] = (uint32_t)(h >> (q * 4)) + table_{i}[q];
    for (int q = 1; q < 8; q++) s.v[q] += s.v[q - 1] * {i % 5 + 2}u;
    return h + s.v[7];
}}""")
out.append("int main(void) {")
out.append("    uint32_t data[256]; for (int i = 0; i < 256; i++) data[i] = (uint32_t)i * 2654435761u;")
out.append("    uint64_t h = 0;")
for i in range(n):
    out.append(f"    h = f_{i}(data, 256, h);")
out.append('    printf("%llu\\n", (unsigned long long)h);')
out.append("    return 0;")
out.append("}")
print("\n".join(out))
