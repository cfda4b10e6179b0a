// Complex numbers where Stan allows them: data, transformed data, transformed
// parameters, locals of every block, generated quantities, function arguments and
// results; literals, promotion int -> real -> complex, arithmetic, the functions.
functions {
  complex twice(complex z) { return 2 * z; }
  complex_vector rotate(complex_vector v, real theta) { return polar(1, theta) * v; }
}
data {
  int<lower=1> N;
  complex_vector[N] zd;
  array[2] complex za;
  complex_matrix[2, 2] zm;
}
transformed data {
  complex z = 3 + 4i;
  complex w = 2.5i;
  complex u = 1;            // int -> complex
  complex_row_vector[2] r = [1, 2i];
  complex_matrix[2, 2] m = [[1, 2i], [3 - 1i, 4]];
  array[2, 3] complex zs = {{3, 4i, 5}, {1i, 2i, 3i}};
  complex_vector[N] f = fft(zd);
  complex_vector[N] g = inv_fft(f);
  complex_matrix[2, 2] f2 = inv_fft2(fft2(zm));
  real a = abs(z) + arg(w) + norm(u) + get_real(z) + get_imag(w);
  vector[N] re = get_real(f);
  complex_vector[2] lam = eigenvalues([[0, -1], [1, 0]]);
  complex_matrix[2, 2] vecs = eigenvectors([[2, 1], [1, 3]]);
  complex e = exp(z) + log(z) + sqrt(z) + pow(z, w) + z ^ 2 + sin(z) + cosh(z) + atan(z)
              + conj(z) + proj(z) + log10(z) + z / w - w * u;
  int same = z == 3 + 4i;
  int differ = z != w;
  complex_row_vector[2] rt = (m * r')';
  m[1, 2] = 7;
  m[2] = r;
  z += 1i;
  print(z, " ", r, " ", m, " ", twice(z), " ", rotate(f, 0.5));
}
parameters {
  real x;
}
transformed parameters {
  complex zt = to_complex(x, 1);
}
model {
  complex q = x + 1i;
  target += -0.5 * norm(q) + get_real(fft(to_complex([x, 1]', [0, 0]'))[1]);
}
generated quantities {
  complex_vector[2] lg = eigenvalues([[x, 1], [0, 2]]);
  vector[2] mods = abs(lg);
  real mx = max(mods);
}
