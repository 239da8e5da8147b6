// The schemas use zod's small build (zod/mini: a fraction of the code that every nx command and
// task loads). Imported for its effect: zod's English messages for the fields whose schema gives none.
import { config } from 'zod/mini';
import { en } from 'zod/locales';

config(en());
