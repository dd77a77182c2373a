-- deploy/roles.sql: the database and its two roles, with least privilege.
--
--   owner  owns the database and every object the migrations make; runs
--          `todo-fcgi --migrate`. No superuser: PostgreSQL 15 lets a
--          database's owner create the trusted extensions pg_trgm and btree_gin.
--   app    the workers' role: owns nothing, may connect to this database
--          and read and write the rows of the owner's tables; no DDL, no
--          temporary tables, no access to schema_migrations.
--
-- Run it with psql as a superuser, before the first `--migrate` and again
-- after each (it is idempotent, and the second run takes schema_migrations,
-- which the first migration creates, away from the app role):
--
--   sudo -u postgres psql -v owner=todo_owner -v app=todo_app -v db=todo -f roles.sql
--
-- The names shown are the defaults. Roles are made without a password: set
-- one (ALTER ROLE todo_app PASSWORD '...', for scram-sha-256 over TCP) or map
-- operating-system users to them (peer, pg_ident.conf). deploy/stack.sh runs
-- this file for the local stack.

\set ON_ERROR_STOP on
\if :{?owner} \else \set owner todo_owner \endif
\if :{?app} \else \set app todo_app \endif
\if :{?db} \else \set db todo \endif

SELECT format('CREATE ROLE %I LOGIN', r) FROM unnest(ARRAY[:'owner', :'app']) r
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \gexec

SET todo.owner = :'owner';
SET todo.app = :'app';
DO $$
BEGIN
    IF current_setting('todo.owner') = current_setting('todo.app') THEN
        RAISE EXCEPTION 'owner and app must be two roles';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolsuper
               AND rolname IN (current_setting('todo.owner'), current_setting('todo.app'))) THEN
        RAISE EXCEPTION 'neither % nor % may be a superuser',
            current_setting('todo.owner'), current_setting('todo.app');
    END IF;
END $$;

SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'owner')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec

-- Every role may connect (another application may share the database), none
-- may make temporary tables unless granted.
REVOKE TEMPORARY ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"app";

\connect :"db"
SET todo.owner = :'owner';
SET todo.app = :'app';

-- PostgreSQL 15's default; a database upgraded from an older release still
-- lets every role create objects in public.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";

-- Tables and sequences the owner makes from now on (later migrations)...
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO :"app";

-- ...and those it owns already; only the owner's, so the tables of another
-- application in the same schema (Better Auth's) stay out of reach.
DO $$
DECLARE
    owner regrole := quote_ident(current_setting('todo.owner'))::regrole;
    app text := quote_ident(current_setting('todo.app'));
    t record;
BEGIN
    FOR t IN SELECT c.oid::regclass AS name, c.relname, c.relkind FROM pg_class c
             WHERE c.relnamespace = 'public'::regnamespace AND c.relowner = owner
               AND c.relkind IN ('r', 'p', 'v', 'S')
    LOOP
        IF t.relkind = 'S' THEN
            EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO %s', t.name, app);
        ELSIF t.relname = 'schema_migrations' THEN
            EXECUTE format('REVOKE ALL ON %s FROM %s', t.name, app);
        ELSE
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %s', t.name, app);
        END IF;
    END LOOP;
END $$;
