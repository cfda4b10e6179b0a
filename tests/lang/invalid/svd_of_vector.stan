// error: svd_of_vector.stan:6:23: error: no signature singular_values(vector); candidates: singular_values(matrix)
// status: VI_ECHECK
parameters {
  vector[3] v;
}
model { target += sum(singular_values(v)); }
