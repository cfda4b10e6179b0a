data {
  int K;
  int N;
  array[N] int<lower=1, upper=K> z;
  vector<lower=0>[K] alpha;
}
parameters {
  simplex[K] theta;
}
model {
  theta ~ dirichlet(alpha);
  z ~ categorical(theta);
}
