// Linear regression with the thin QR reparametrisation (qr_thin_Q / qr_thin_R) and
// coefficients recovered in gq with mdivide_right_tri_low / inverse.
data {
  int<lower=0> N;
  int<lower=1> K;
  matrix[N, K] x;
  vector[N] y;
}
transformed data {
  matrix[N, K] Q_ast = qr_thin_Q(x) * sqrt(N - 1);
  matrix[K, K] R_ast = qr_thin_R(x) / sqrt(N - 1);
  matrix[K, K] R_ast_inverse = inverse(R_ast);
  // the factors reproduce x, Q has orthonormal columns, R a positive diagonal
  if (max(abs(to_vector(qr_thin_Q(x) * qr_thin_R(x) - x))) > 1e-10
      || max(abs(to_vector(crossprod(qr_thin_Q(x)) - identity_matrix(K)))) > 1e-10
      || min(diagonal(qr_thin_R(x))) <= 0
      || max(abs(to_vector(qr_Q(x) * qr_R(x) - x))) > 1e-10)
    reject("QR factors are wrong");
}
parameters {
  real alpha;
  vector[K] theta;
  real<lower=0> sigma;
}
model {
  y ~ normal(Q_ast * theta + alpha, sigma);
}
generated quantities {
  vector[K] beta = R_ast_inverse * theta;
}
