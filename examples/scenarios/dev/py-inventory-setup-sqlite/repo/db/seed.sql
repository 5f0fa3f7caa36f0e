CREATE TABLE stock (
    sku TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    on_hand INTEGER NOT NULL,
    reserved INTEGER NOT NULL DEFAULT 0
);
INSERT INTO stock (sku, name, on_hand, reserved) VALUES
    ('PAL-001', 'Euro pallet', 140, 20),
    ('BOX-M', 'Carton, medium', 2300, 400),
    ('TAPE-48', 'Packing tape 48mm', 96, 0);
