CREATE TABLE orders (
  id bigint AUTO_INCREMENT PRIMARY KEY,
  currency varchar(3),
  status varchar(10) NOT NULL DEFAULT 'new',
  code varchar(10) DEFAULT 'x'
);
