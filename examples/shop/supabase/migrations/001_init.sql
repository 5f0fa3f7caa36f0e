-- Protected path: schema migrations are applied by humans, never by Medic.
create table practices (
  id text primary key,
  name text not null,
  city text not null,
  phone text not null,
  specialties text[] not null default '{}'
);

create table reviews (
  id bigint generated always as identity primary key,
  practice_id text not null references practices (id),
  stars smallint not null check (stars between 1 and 5),
  text text not null default ''
);

create table appointments (
  id text primary key,
  patient_id text not null,
  practice_id text not null references practices (id),
  starts_at timestamptz not null,
  cancelled boolean not null default false
);

create table orders (
  id text primary key,
  practice_id text not null references practices (id),
  user_id text,
  total_pence integer not null,
  vat_pence integer not null,
  country char(2) not null,
  created_at timestamptz not null default now()
);
