-- 0003: the market prices of an AMM pool's coins (adapters.FieldCoin0Price
-- .. FieldCoin2Price), in the pool's base asset: a stablecoin's USD price in
-- a USD pool (USDC's 0.9555 on 2023-03-11). NULL means "not observed".
ALTER TABLE observations ADD COLUMN coin0_price REAL;
ALTER TABLE observations ADD COLUMN coin1_price REAL;
ALTER TABLE observations ADD COLUMN coin2_price REAL;
