// Pre-2.33 assignment operator, accepted (read as '=').
transformed data {
  real x;
  x <- 1;
}
parameters {
  real mu;
}
model {
  array[2] real a;
  a[1] <- -1;
  a[2]<-mu;
  if (a[1]<-0.5) mu ~ normal(x, 1);
}
