// Russian personal names for patients and staff. Surnames and patronymics are declined by gender,
// because a female patient "Иванов Мария" would be the first thing a Russian-speaking tester notices.
import type { Rng } from './random.js';

export type Gender = 'M' | 'F';

export interface PersonName {
  name: string;
  lastName: string;
  secondName: string;
  gender: Gender;
}

const MALE = [
  'Александр',
  'Алексей',
  'Андрей',
  'Антон',
  'Артём',
  'Борис',
  'Вадим',
  'Валерий',
  'Василий',
  'Виктор',
  'Владимир',
  'Владислав',
  'Вячеслав',
  'Георгий',
  'Григорий',
  'Даниил',
  'Денис',
  'Дмитрий',
  'Евгений',
  'Егор',
  'Иван',
  'Игорь',
  'Илья',
  'Кирилл',
  'Константин',
  'Леонид',
  'Максим',
  'Марк',
  'Матвей',
  'Михаил',
  'Никита',
  'Николай',
  'Олег',
  'Павел',
  'Пётр',
  'Роман',
  'Руслан',
  'Сергей',
  'Станислав',
  'Степан',
  'Тимофей',
  'Тимур',
  'Фёдор',
  'Юрий',
  'Ярослав',
];

const FEMALE = [
  'Александра',
  'Алина',
  'Алиса',
  'Алла',
  'Анастасия',
  'Анна',
  'Валентина',
  'Валерия',
  'Вера',
  'Вероника',
  'Виктория',
  'Галина',
  'Дарья',
  'Диана',
  'Евгения',
  'Екатерина',
  'Елена',
  'Елизавета',
  'Жанна',
  'Злата',
  'Инна',
  'Ирина',
  'Карина',
  'Кира',
  'Ксения',
  'Лариса',
  'Любовь',
  'Людмила',
  'Маргарита',
  'Марина',
  'Мария',
  'Милана',
  'Надежда',
  'Наталья',
  'Нина',
  'Оксана',
  'Ольга',
  'Полина',
  'Светлана',
  'София',
  'Татьяна',
  'Ульяна',
  'Юлия',
  'Яна',
];

// [male first name used for patronymics, masculine patronymic, feminine patronymic]
const FATHERS: readonly (readonly [string, string])[] = [
  ['Александрович', 'Александровна'],
  ['Алексеевич', 'Алексеевна'],
  ['Андреевич', 'Андреевна'],
  ['Анатольевич', 'Анатольевна'],
  ['Борисович', 'Борисовна'],
  ['Вадимович', 'Вадимовна'],
  ['Валерьевич', 'Валерьевна'],
  ['Васильевич', 'Васильевна'],
  ['Викторович', 'Викторовна'],
  ['Владимирович', 'Владимировна'],
  ['Геннадьевич', 'Геннадьевна'],
  ['Георгиевич', 'Георгиевна'],
  ['Григорьевич', 'Григорьевна'],
  ['Денисович', 'Денисовна'],
  ['Дмитриевич', 'Дмитриевна'],
  ['Евгеньевич', 'Евгеньевна'],
  ['Иванович', 'Ивановна'],
  ['Игоревич', 'Игоревна'],
  ['Ильич', 'Ильинична'],
  ['Константинович', 'Константиновна'],
  ['Леонидович', 'Леонидовна'],
  ['Максимович', 'Максимовна'],
  ['Михайлович', 'Михайловна'],
  ['Николаевич', 'Николаевна'],
  ['Олегович', 'Олеговна'],
  ['Павлович', 'Павловна'],
  ['Петрович', 'Петровна'],
  ['Романович', 'Романовна'],
  ['Сергеевич', 'Сергеевна'],
  ['Юрьевич', 'Юрьевна'],
];

// Masculine surnames; feminine forms are derived by `feminine`.
const SURNAMES = [
  'Иванов',
  'Смирнов',
  'Кузнецов',
  'Попов',
  'Васильев',
  'Петров',
  'Соколов',
  'Михайлов',
  'Новиков',
  'Фёдоров',
  'Морозов',
  'Волков',
  'Алексеев',
  'Лебедев',
  'Семёнов',
  'Егоров',
  'Павлов',
  'Козлов',
  'Степанов',
  'Николаев',
  'Орлов',
  'Андреев',
  'Макаров',
  'Никитин',
  'Захаров',
  'Зайцев',
  'Соловьёв',
  'Борисов',
  'Яковлев',
  'Григорьев',
  'Романов',
  'Воробьёв',
  'Сергеев',
  'Кузьмин',
  'Фролов',
  'Александров',
  'Дмитриев',
  'Королёв',
  'Гусев',
  'Киселёв',
  'Ильин',
  'Максимов',
  'Поляков',
  'Сорокин',
  'Виноградов',
  'Ковалёв',
  'Белов',
  'Медведев',
  'Антонов',
  'Тарасов',
  'Жуков',
  'Баранов',
  'Филиппов',
  'Комаров',
  'Давыдов',
  'Беляев',
  'Герасимов',
  'Богданов',
  'Осипов',
  'Сидоров',
  'Матвеев',
  'Титов',
  'Марков',
  'Миронов',
  'Крылов',
  'Куликов',
  'Карпов',
  'Власов',
  'Мельников',
  'Денисов',
  'Гаврилов',
  'Тихонов',
  'Казаков',
  'Афанасьев',
  'Данилов',
  'Савельев',
  'Тимофеев',
  'Фомин',
  'Чернов',
  'Абрамов',
  'Островский',
  'Покровский',
  'Вишневский',
  'Заболотский',
  'Шевченко',
  'Бондаренко',
  'Коваленко',
  'Черных',
  'Седых',
  'Гайдамак',
];

/** Feminine form of a Russian surname (-ов/-ев/-ин → +а, -ский → -ская; indeclinable ones stay). */
export function feminine(surname: string): string {
  if (/(ов|ев|ёв|ин|ын)$/.test(surname)) return surname + 'а';
  if (/ский$/.test(surname)) return surname.slice(0, -2) + 'ая';
  return surname;
}

export function randomSurname(rng: Rng): string {
  return rng.pick(SURNAMES);
}

export function personName(
  rng: Rng,
  gender: Gender,
  surname = randomSurname(rng),
  father = rng.pick(FATHERS),
): PersonName {
  return {
    name: rng.pick(gender === 'M' ? MALE : FEMALE),
    lastName: gender === 'M' ? surname : feminine(surname),
    secondName: father[gender === 'M' ? 0 : 1],
    gender,
  };
}

/** A child's name sharing the parent's surname and patronymic source (same family, same phone). */
export function childName(rng: Rng, gender: Gender, parentSurnameMasculine: string): PersonName {
  return personName(rng, gender, parentSurnameMasculine);
}

/** Foreign patients (expats, tourists): the clinic's USD-paying patients. */
const FOREIGN: readonly (readonly [string, string, Gender])[] = [
  ['John', 'Smith', 'M'],
  ['Anna', 'Müller', 'F'],
  ['David', 'Cohen', 'M'],
  ['Laura', 'Rossi', 'F'],
  ['Michael', 'Brown', 'M'],
  ['Sophie', 'Martin', 'F'],
  ['Ahmed', 'Hassan', 'M'],
  ['Emma', 'Johansson', 'F'],
];

export function foreignName(rng: Rng): PersonName {
  const [name, lastName, gender] = rng.pick(FOREIGN);
  return { name, lastName, secondName: '', gender };
}

const TRANSLIT: Record<string, string> = {
  а: 'a',
  б: 'b',
  в: 'v',
  г: 'g',
  д: 'd',
  е: 'e',
  ё: 'e',
  ж: 'zh',
  з: 'z',
  и: 'i',
  й: 'y',
  к: 'k',
  л: 'l',
  м: 'm',
  н: 'n',
  о: 'o',
  п: 'p',
  р: 'r',
  с: 's',
  т: 't',
  у: 'u',
  ф: 'f',
  х: 'kh',
  ц: 'ts',
  ч: 'ch',
  ш: 'sh',
  щ: 'shch',
  ъ: '',
  ы: 'y',
  ь: '',
  э: 'e',
  ю: 'yu',
  я: 'ya',
};

export function translit(s: string): string {
  let out = '';
  for (const ch of s.toLowerCase()) out += TRANSLIT[ch] ?? (/[a-z0-9]/.test(ch) ? ch : '');
  return out;
}

const MAIL_DOMAINS = ['mail.ru', 'yandex.ru', 'gmail.com', 'bk.ru', 'inbox.ru', 'list.ru'];

export function emailFor(rng: Rng, p: PersonName): string {
  const first = translit(p.name);
  const last = translit(p.lastName);
  const style = rng.int(0, 3);
  const local =
    style === 0
      ? `${last}.${first[0]}`
      : style === 1
        ? `${first}.${last}`
        : style === 2
          ? `${last}${rng.int(70, 99)}`
          : `${first[0]}${last}${rng.int(1, 999)}`;
  return `${local}@${rng.pick(MAIL_DOMAINS)}`;
}

/** A Russian mobile number in E.164 (+79XXXXXXXXX). */
export function mobilePhone(rng: Rng): string {
  return '+79' + String(rng.int(0, 999_999_999)).padStart(9, '0');
}
